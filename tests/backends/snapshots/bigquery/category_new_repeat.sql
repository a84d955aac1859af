WITH `t7` AS (
  SELECT
    `t6`.`order_id`,
    `t6`.`customer_id`,
    `t6`.`ordered_at`,
    `t6`.`status`,
    `t6`.`channel`,
    `t6`.`subtotal`,
    `t6`.`discount`,
    `t6`.`shipping_fee`,
    `t6`.`points_used`,
    `t6`.`total`,
    `t6`.`points_earned`,
    `t6`.`coupon_code`,
    `t6`.`subscription_id`,
    `t6`.`payment_method`,
    `t6`.`shipping_prefecture`,
    `t6`.`is_gift`,
    `t6`.`order_date`,
    (
      ROW_NUMBER() OVER (
        PARTITION BY `t6`.`customer_id`
        ORDER BY `t6`.`ordered_at` ASC, `t6`.`order_id` ASC
      ) - 1
    ) + 1 AS `order_no`
  FROM (
    SELECT
      `t2`.`order_id`,
      `t2`.`customer_id`,
      `t2`.`ordered_at`,
      `t2`.`status`,
      `t2`.`channel`,
      `t2`.`subtotal`,
      `t2`.`discount`,
      `t2`.`shipping_fee`,
      `t2`.`points_used`,
      `t2`.`total`,
      `t2`.`points_earned`,
      `t2`.`coupon_code`,
      `t2`.`subscription_id`,
      `t2`.`payment_method`,
      `t2`.`shipping_prefecture`,
      `t2`.`is_gift`,
      DATE(TIMESTAMP_ADD(`t2`.`ordered_at`, INTERVAL '9' HOUR)) AS `order_date`
    FROM `orders` AS `t2`
    WHERE
      `t2`.`status` = 'completed'
      AND `t2`.`customer_id` IS NOT NULL
      AND `t2`.`ordered_at` < DATETIME('2026-10-31T15:00:00')
  ) AS `t6`
)
SELECT
  `t14`.`category`,
  `t14`.`buyers`,
  `t14`.`new_buyers`,
  `t14`.`repeat_buyers`,
  `t14`.`new_revenue`,
  `t14`.`repeat_revenue`,
  `t14`.`new_revenue` + `t14`.`repeat_revenue` AS `revenue`,
  ieee_divide(
    CAST(FLOOR(
      (
        ieee_divide(CAST(`t14`.`new_buyers` AS FLOAT64), NULLIF(`t14`.`buyers`, 0)) * 10000
      ) + 0.5
    ) AS INT64),
    10000
  ) AS `new_buyer_share`
FROM (
  SELECT
    `t13`.`category`,
    COUNT(DISTINCT `t13`.`customer_id`) AS `buyers`,
    COUNT(DISTINCT IF(`t13`.`first_order` IS NOT NULL, `t13`.`customer_id`, NULL)) AS `new_buyers`,
    COUNT(DISTINCT IF(`t13`.`first_order` IS NOT NULL, NULL, `t13`.`customer_id`)) AS `repeat_buyers`,
    SUM(IF(`t13`.`first_order` IS NOT NULL, `t13`.`amount`, 0)) AS `new_revenue`,
    SUM(IF(`t13`.`first_order` IS NOT NULL, 0, `t13`.`amount`)) AS `repeat_revenue`
  FROM (
    SELECT
      `t3`.`order_id`,
      `t3`.`line_no`,
      `t3`.`product_id`,
      `t3`.`quantity`,
      `t3`.`amount`,
      COALESCE(COALESCE(`t3`.`category`, `t5`.`master_category`), '(未分類)') AS `category`,
      `t10`.`customer_id`,
      `t10`.`ordered_at`,
      `t10`.`order_date`,
      `t12`.`first_order`
    FROM `order_items` AS `t3`
    LEFT OUTER JOIN (
      SELECT
        `t1`.`product_id`,
        `t1`.`category` AS `master_category`
      FROM `products` AS `t1`
    ) AS `t5`
      ON `t3`.`product_id` = `t5`.`product_id`
    INNER JOIN (
      SELECT
        `t8`.`order_id`,
        `t8`.`customer_id`,
        `t8`.`ordered_at`,
        `t8`.`order_date`
      FROM `t7` AS `t8`
    ) AS `t10`
      ON `t3`.`order_id` = `t10`.`order_id`
    LEFT OUTER JOIN (
      SELECT
        `t8`.`order_id` AS `first_order`
      FROM `t7` AS `t8`
      WHERE
        `t8`.`order_no` = 1
    ) AS `t12`
      ON `t3`.`order_id` = `t12`.`first_order`
  ) AS `t13`
  GROUP BY
    1
) AS `t14`
ORDER BY
  `t14`.`new_revenue` + `t14`.`repeat_revenue` DESC,
  `t14`.`category` ASC NULLS LAST
