SELECT
  `t15`.`month`,
  `t15`.`orders`,
  `t15`.`gift_orders`,
  `t15`.`gift_buyers`,
  `t15`.`gift_revenue`,
  `t15`.`revenue`,
  ieee_divide(
    CAST(FLOOR(
      (
        ieee_divide(CAST(`t15`.`gift_revenue` AS FLOAT64), NULLIF(`t15`.`revenue`, 0)) * 10000
      ) + 0.5
    ) AS INT64),
    10000
  ) AS `gift_revenue_share`
FROM (
  SELECT
    `t14`.`month`,
    COUNT(`t14`.`order_id`) AS `orders`,
    SUM(`t14`.`gift`) AS `gift_orders`,
    COUNT(DISTINCT IF(`t14`.`gift` = 1, `t14`.`customer_id`, NULL)) AS `gift_buyers`,
    SUM(IF(`t14`.`gift` = 1, `t14`.`total`, 0)) AS `gift_revenue`,
    SUM(`t14`.`total`) AS `revenue`
  FROM (
    SELECT
      `t13`.`order_id`,
      `t13`.`customer_id`,
      `t13`.`ordered_at`,
      `t13`.`status`,
      `t13`.`channel`,
      `t13`.`subtotal`,
      `t13`.`discount`,
      `t13`.`shipping_fee`,
      `t13`.`points_used`,
      `t13`.`total`,
      `t13`.`points_earned`,
      `t13`.`coupon_code`,
      `t13`.`subscription_id`,
      `t13`.`payment_method`,
      `t13`.`shipping_prefecture`,
      `t13`.`is_gift`,
      `t13`.`order_date`,
      `t13`.`has_gift_item`,
      `t13`.`is_gift` OR (
        `t13`.`has_gift_item` IS NOT NULL
      ) AS `is_gift_purchase`,
      DATE_TRUNC(`t13`.`order_date`, MONTH) AS `month`,
      IF(`t13`.`is_gift` OR (
        `t13`.`has_gift_item` IS NOT NULL
      ), 1, 0) AS `gift`
    FROM (
      SELECT
        `t12`.*
        EXCEPT (`order_id_right`)
      FROM (
        SELECT
          `t7`.`order_id`,
          `t7`.`customer_id`,
          `t7`.`ordered_at`,
          `t7`.`status`,
          `t7`.`channel`,
          `t7`.`subtotal`,
          `t7`.`discount`,
          `t7`.`shipping_fee`,
          `t7`.`points_used`,
          `t7`.`total`,
          `t7`.`points_earned`,
          `t7`.`coupon_code`,
          `t7`.`subscription_id`,
          `t7`.`payment_method`,
          `t7`.`shipping_prefecture`,
          `t7`.`is_gift`,
          `t7`.`order_date`,
          `t11`.`order_id` AS `order_id_right`,
          `t11`.`has_gift_item`
        FROM (
          SELECT
            `t0`.`order_id`,
            `t0`.`customer_id`,
            `t0`.`ordered_at`,
            `t0`.`status`,
            `t0`.`channel`,
            `t0`.`subtotal`,
            `t0`.`discount`,
            `t0`.`shipping_fee`,
            `t0`.`points_used`,
            `t0`.`total`,
            `t0`.`points_earned`,
            `t0`.`coupon_code`,
            `t0`.`subscription_id`,
            `t0`.`payment_method`,
            `t0`.`shipping_prefecture`,
            `t0`.`is_gift`,
            DATE(TIMESTAMP_ADD(`t0`.`ordered_at`, INTERVAL '9' HOUR)) AS `order_date`
          FROM `orders` AS `t0`
          WHERE
            `t0`.`status` = 'completed'
            AND `t0`.`customer_id` IS NOT NULL
            AND `t0`.`ordered_at` < DATETIME('2026-10-31T15:00:00')
        ) AS `t7`
        LEFT OUTER JOIN (
          SELECT
            `t9`.`order_id`,
            1 AS `has_gift_item`
          FROM (
            SELECT DISTINCT
              *
            FROM (
              SELECT
                `t3`.`order_id`
              FROM `order_items` AS `t3`
              INNER JOIN (
                SELECT
                  `t2`.`product_id`
                FROM `products` AS `t2`
                WHERE
                  `t2`.`is_gift`
              ) AS `t5`
                ON `t3`.`product_id` = `t5`.`product_id`
            ) AS `t8`
          ) AS `t9`
        ) AS `t11`
          ON `t7`.`order_id` = `t11`.`order_id`
      ) AS `t12`
    ) AS `t13`
  ) AS `t14`
  GROUP BY
    1
) AS `t15`
ORDER BY
  `t15`.`month` ASC NULLS LAST
