SELECT
  *
FROM (
  SELECT
    `t15`.`from_code`,
    `t15`.`from_label`,
    `t15`.`to_code`,
    `t15`.`to_label`,
    `t15`.`customers`,
    ieee_divide(
      CAST(FLOOR(
        (
          ieee_divide(
            CAST(`t15`.`customers` AS FLOAT64),
            SUM(`t15`.`customers`) OVER (
              PARTITION BY `t15`.`from_code`
              ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
            )
          ) * 10000
        ) + 0.5
      ) AS INT64),
      10000
    ) AS `share_of_from`
  FROM (
    SELECT
      `t14`.`from_code`,
      `t14`.`from_label`,
      `t14`.`to_code`,
      `t14`.`to_label`,
      COUNT(`t14`.`customer_id`) AS `customers`
    FROM (
      SELECT
        `t13`.`customer_id`,
        `t13`.`to_code`,
        `t13`.`to_label`,
        `t13`.`customer_id_right`,
        COALESCE(`t13`.`from_code`, '-') AS `from_code`,
        COALESCE(`t13`.`from_label`, '(未購入)') AS `from_label`
      FROM (
        SELECT
          `t11`.`customer_id`,
          `t11`.`to_code`,
          `t11`.`to_label`,
          `t12`.`customer_id` AS `customer_id_right`,
          `t12`.`from_code`,
          `t12`.`from_label`
        FROM (
          SELECT
            `t7`.`customer_id`,
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
            ) AS `to_code`,
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
            ) AS `to_label`
          FROM (
            SELECT
              `t5`.`customer_id`,
              `t5`.`first_order`,
              `t5`.`last_order`,
              `t5`.`orders`,
              `t5`.`cumulative`,
              `t5`.`tenure_days`,
              `t5`.`days_since_last`,
              CASE
                WHEN `t5`.`orders` = 1
                THEN 'first'
                WHEN `t5`.`tenure_days` < 90
                THEN 'toddler'
                WHEN `t5`.`cumulative` < 70000
                THEN 'steady'
                WHEN `t5`.`tenure_days` < 210
                THEN 'trendy'
                ELSE 'loyal'
              END AS `cpm_group`,
              IF(`t5`.`days_since_last` >= 240, 'lapsed', 'active') AS `cpm_status`
            FROM (
              SELECT
                `t3`.`customer_id`,
                `t3`.`first_order`,
                `t3`.`last_order`,
                `t3`.`orders`,
                `t3`.`cumulative`,
                DATE_DIFF(`t3`.`last_order`, `t3`.`first_order`, DAY) AS `tenure_days`,
                DATE_DIFF(DATE(2026, 10, 31), `t3`.`last_order`, DAY) AS `days_since_last`
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
                    AND `t0`.`ordered_at` < DATETIME('2026-10-31T15:00:00')
                ) AS `t1`
                GROUP BY
                  1
              ) AS `t3`
            ) AS `t5`
          ) AS `t7`
        ) AS `t11`
        LEFT OUTER JOIN (
          SELECT
            `t8`.`customer_id`,
            CONCAT(
              CASE `t8`.`cpm_group`
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
                ELSE `t8`.`cpm_group`
              END,
              IF(`t8`.`cpm_status` = 'active', 'a', 'b')
            ) AS `from_code`,
            CONCAT(
              CONCAT(
                CASE `t8`.`cpm_group`
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
                  ELSE `t8`.`cpm_group`
                END,
                CASE `t8`.`cpm_status`
                  WHEN 'active'
                  THEN '現役'
                  WHEN 'lapsed'
                  THEN '離脱'
                  ELSE `t8`.`cpm_status`
                END
              ),
              '客'
            ) AS `from_label`
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
                `t4`.`customer_id`,
                `t4`.`first_order`,
                `t4`.`last_order`,
                `t4`.`orders`,
                `t4`.`cumulative`,
                DATE_DIFF(`t4`.`last_order`, `t4`.`first_order`, DAY) AS `tenure_days`,
                DATE_DIFF(DATE(2026, 5, 4), `t4`.`last_order`, DAY) AS `days_since_last`
              FROM (
                SELECT
                  `t2`.`customer_id`,
                  MIN(`t2`.`order_date`) AS `first_order`,
                  MAX(`t2`.`order_date`) AS `last_order`,
                  COUNT(*) AS `orders`,
                  SUM(`t2`.`total`) AS `cumulative`
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
                    AND `t0`.`ordered_at` < DATETIME('2026-05-04T15:00:00')
                ) AS `t2`
                GROUP BY
                  1
              ) AS `t4`
            ) AS `t6`
          ) AS `t8`
        ) AS `t12`
          ON `t11`.`customer_id` = `t12`.`customer_id`
      ) AS `t13`
    ) AS `t14`
    GROUP BY
      1,
      2,
      3,
      4
  ) AS `t15`
) AS `t16`
ORDER BY
  `t16`.`from_code` ASC NULLS LAST,
  `t16`.`to_code` ASC NULLS LAST
