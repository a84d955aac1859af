SELECT
  `t11`.`cpm_code`,
  `t11`.`cpm_label`,
  `t11`.`customers`,
  `t11`.`buyers`,
  `t11`.`orders`,
  `t11`.`revenue`,
  ieee_divide(
    CAST(FLOOR(
      (
        ieee_divide(CAST(`t11`.`buyers` AS FLOAT64), `t11`.`customers`) * 10000
      ) + 0.5
    ) AS INT64),
    10000
  ) AS `purchase_rate`,
  ieee_divide(
    CAST(FLOOR((
      ieee_divide(CAST(`t11`.`revenue` AS FLOAT64), `t11`.`customers`) * 1
    ) + 0.5) AS INT64),
    1
  ) AS `revenue_per_customer`
FROM (
  SELECT
    `t10`.`cpm_code`,
    `t10`.`cpm_label`,
    COUNT(`t10`.`customer_id`) AS `customers`,
    COUNT(`t10`.`orders`) AS `buyers`,
    COALESCE(SUM(`t10`.`orders`), 0) AS `orders`,
    COALESCE(SUM(`t10`.`revenue`), 0) AS `revenue`
  FROM (
    SELECT
      `t9`.`customer_id`,
      `t9`.`cpm_label`,
      `t9`.`cpm_code`,
      `t5`.`customer_id` AS `customer_id_right`,
      `t5`.`orders`,
      `t5`.`revenue`
    FROM (
      SELECT
        `t7`.`customer_id`,
        CONCAT(
          CONCAT(
            CASE `t7`.`cpm_group`
              WHEN 'first'
              THEN '初回'
              WHEN 'toddler'
              THEN 'よちよち'
              WHEN 'steady'
              THEN 'コツコツ'
              WHEN 'trendy'
              THEN '流行'
              WHEN 'loyal'
              THEN '優良'
              ELSE `t7`.`cpm_group`
            END,
            CASE `t7`.`cpm_status`
              WHEN 'active'
              THEN '現役'
              WHEN 'lapsed'
              THEN '離脱'
              ELSE `t7`.`cpm_status`
            END
          ),
          '客'
        ) AS `cpm_label`,
        CONCAT(
          CASE `t7`.`cpm_group`
            WHEN 'first'
            THEN '0'
            WHEN 'toddler'
            THEN '1'
            WHEN 'steady'
            THEN '2'
            WHEN 'trendy'
            THEN '3'
            WHEN 'loyal'
            THEN '4'
            ELSE `t7`.`cpm_group`
          END,
          IF(`t7`.`cpm_status` = 'active', 'a', 'b')
        ) AS `cpm_code`
      FROM (
        SELECT
          `t6`.`customer_id`,
          `t6`.`first_order`,
          `t6`.`last_order`,
          `t6`.`orders`,
          `t6`.`cumulative`,
          `t6`.`tenure_days`,
          `t6`.`days_since_last`,
          CASE
            WHEN `t6`.`orders` = 1
            THEN 'first'
            WHEN `t6`.`tenure_days` < 90
            THEN 'toddler'
            WHEN `t6`.`cumulative` < 70000
            THEN 'steady'
            WHEN `t6`.`tenure_days` < 210
            THEN 'trendy'
            ELSE 'loyal'
          END AS `cpm_group`,
          IF(`t6`.`days_since_last` >= 240, 'lapsed', 'active') AS `cpm_status`
        FROM (
          SELECT
            `t3`.`customer_id`,
            `t3`.`first_order`,
            `t3`.`last_order`,
            `t3`.`orders`,
            `t3`.`cumulative`,
            DATE_DIFF(`t3`.`last_order`, `t3`.`first_order`, DAY) AS `tenure_days`,
            DATE_DIFF(DATE(2026, 8, 2), `t3`.`last_order`, DAY) AS `days_since_last`
          FROM (
            SELECT
              `t1`.`customer_id`,
              MIN(`t1`.`order_date`) AS `first_order`,
              MAX(`t1`.`order_date`) AS `last_order`,
              COUNT(*) AS `orders`,
              SUM(`t1`.`total`) AS `cumulative`
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
                AND `t0`.`ordered_at` < DATETIME('2026-08-02T15:00:00')
            ) AS `t1`
            GROUP BY
              1
          ) AS `t3`
        ) AS `t6`
      ) AS `t7`
    ) AS `t9`
    LEFT OUTER JOIN (
      SELECT
        `t2`.`customer_id`,
        COUNT(`t2`.`order_id`) AS `orders`,
        SUM(`t2`.`total`) AS `revenue`
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
          AND DATE(TIMESTAMP_ADD(`t0`.`ordered_at`, INTERVAL '9' HOUR)) > DATE(2026, 8, 2)
          AND DATE(TIMESTAMP_ADD(`t0`.`ordered_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
      ) AS `t2`
      GROUP BY
        1
    ) AS `t5`
      ON `t9`.`customer_id` = `t5`.`customer_id`
  ) AS `t10`
  GROUP BY
    1,
    2
) AS `t11`
ORDER BY
  `t11`.`cpm_code` ASC NULLS LAST
